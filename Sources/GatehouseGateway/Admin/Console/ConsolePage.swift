/// The console's HTML: a shell with no data in it; the script fetches everything from the admin API
/// with the admin key, so the page itself needs no key. Served with a strict content security policy:
/// no inline script or style, nothing from elsewhere.
enum ConsolePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Gatehouse console</title>
        <link rel="stylesheet" href="/console/app.css">
        <script src="/console/app.js" defer></script>
        </head>
        <body>
        <header>
          <h1>Gatehouse</h1>
          <nav>
            <button data-view="flows" class="active">Flows</button>
            <button data-view="graph">Who talks to what</button>
            <button data-view="usage">Usage and budgets</button>
            <button data-view="policies">Policies</button>
          </nav>
          <span id="status">not connected</span>
        </header>
        <form id="login" hidden>
          <label>Admin key <input id="key" type="password" autocomplete="off" placeholder="gha_..."></label>
          <button type="submit">Connect</button>
          <p id="login-error"></p>
        </form>
        <main>
          <section id="flows" class="view active">
            <form id="filter">
              <input id="query" placeholder="filters, as in gatehouse flows: verdict=deny&amp;namespace=ai&amp;identity=alice" size="70">
              <button type="submit">Apply</button>
              <label><input id="live" type="checkbox" checked> live</label>
              <span id="count"></span>
            </form>
            <div class="table-head flow-row">
              <span>time</span><span>source</span><span>destination</span><span>route or port</span>
              <span>verdict</span><span>reason</span><span>count</span><span>policy trace</span>
            </div>
            <div id="flow-scroll"><div id="flow-spacer"><div id="flow-rows"></div></div></div>
            <pre id="trace"></pre>
          </section>
          <section id="graph" class="view"><svg id="graph-svg" role="img" aria-label="who talks to what"></svg></section>
          <section id="usage" class="view">
            <div id="charts"></div>
            <h2>Budgets</h2>
            <div id="budget-bars"></div>
            <table id="budgets"><thead><tr><th>budget</th><th>period</th><th>limit</th><th>spent</th><th>reserved</th><th>remaining</th></tr></thead><tbody></tbody></table>
          </section>
          <section id="policies" class="view"><div id="policy-list"></div></section>
        </main>
        </body>
        </html>
        """#
}

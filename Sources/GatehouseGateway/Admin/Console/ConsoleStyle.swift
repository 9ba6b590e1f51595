/// The console's stylesheet.
enum ConsoleStyle {
    static let css = #"""
        :root { font-family: "DejaVu Sans", system-ui, sans-serif; font-size: 13px; color: #1d2530; background: #f6f7f9; }
        body { margin: 0; }
        header { display: flex; align-items: center; gap: 16px; padding: 8px 16px; background: #14213d; color: #fff; }
        header h1 { font-size: 17px; margin: 0; }
        nav button { background: none; border: 0; color: #c9d3e6; padding: 6px 10px; cursor: pointer; font-size: 13px; }
        nav button.active { color: #fff; border-bottom: 2px solid #fca311; }
        #status { margin-left: auto; font-size: 12px; color: #c9d3e6; }
        main { padding: 12px 16px; }
        .view { display: none; }
        .view.active { display: block; }
        form#filter { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
        form#login { padding: 24px; }
        .flow-row { display: grid; grid-template-columns: 150px 190px 190px 170px 70px 150px 110px 1fr; gap: 6px;
          height: 24px; line-height: 24px; white-space: nowrap; overflow: hidden; padding: 0 6px; cursor: pointer; }
        .flow-row span { overflow: hidden; text-overflow: ellipsis; }
        .table-head { font-weight: bold; background: #e5e8ee; cursor: default; }
        #flow-scroll { height: 60vh; overflow-y: auto; background: #fff; border: 1px solid #dde1e8; }
        #flow-spacer { position: relative; }
        #flow-rows { position: absolute; left: 0; right: 0; }
        .deny { background: #fdecea; }
        .verdict-deny { color: #b3261e; font-weight: bold; }
        .verdict-allow { color: #1b7f3b; }
        #trace { background: #fff; border: 1px solid #dde1e8; padding: 8px; min-height: 40px; white-space: pre-wrap; }
        svg { background: #fff; border: 1px solid #dde1e8; }
        .chart { display: inline-block; margin: 0 16px 16px 0; }
        .chart h3 { margin: 4px 0; font-size: 13px; }
        table { border-collapse: collapse; background: #fff; }
        th, td { border: 1px solid #dde1e8; padding: 4px 8px; text-align: left; }
        .policy { background: #fff; border: 1px solid #dde1e8; margin-bottom: 8px; padding: 8px; }
        .policy h3 { margin: 0 0 4px 0; font-size: 13px; }
        """#
}

/// The console's files, served from the binary: the page, script and stylesheet live in `Files/` as what
/// they are (read, linted and diffed as HTML, JavaScript and CSS) and are embedded at build time
/// (`.embedInCode` in Package.swift), so a deployment carries nothing beside the binary.
enum ConsoleFile {
    case page
    case script
    case style

    /// The file a path of the console names: `/console/app.js`, `/console/app.css`, else the page.
    init(path: String) {
        switch path {
        case "/console/app.js": self = .script
        case "/console/app.css": self = .style
        default: self = .page
        }
    }

    var contentType: String {
        switch self {
        case .page: "text/html; charset=utf-8"
        case .script: "text/javascript; charset=utf-8"
        case .style: "text/css; charset=utf-8"
        }
    }

    var bytes: [UInt8] {
        switch self {
        case .page: PackageResources.index_html
        case .script: PackageResources.app_js
        case .style: PackageResources.app_css
        }
    }
}

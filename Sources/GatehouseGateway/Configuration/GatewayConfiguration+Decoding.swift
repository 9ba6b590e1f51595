import Crypto
import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseStore

extension GatewayConfiguration {
    /// Reads and validates a `gatehouse.yaml`. Unknown fields are errors: a typo in a gateway's
    /// configuration must not silently widen access. Every problem found is reported at once.
    ///
    /// - Parameter environment: where `credentialEnv` names are looked up; nil reads the structure only,
    ///   no credential, password, token or TLS file and no variable (for `gatehouse blueprint`, which
    ///   runs where the pod's secrets are not).
    public static func load(
        file: String,
        environment: [String: String]? = ProcessInfo.processInfo.environment
    ) throws(ResourceErrors) -> GatewayConfiguration {
        let text: String
        do {
            text = try ResourceLoader.read(file)
        } catch {
            throw ResourceErrors([error])
        }
        return try decode(text: text, file: file, environment: environment)
    }

    /// Decodes configuration text; `file` names it in errors.
    public static func decode(
        text: String,
        file: String,
        environment: [String: String]? = ProcessInfo.processInfo.environment
    ) throws(ResourceErrors) -> GatewayConfiguration {
        let diagnostics = DecodeDiagnostics()
        var configuration = GatewayConfiguration()
        configuration.file = file
        do {
            let documents = try ResourceValue.documents(in: text, file: file)
            guard documents.count <= 1 else {
                throw ResourceError(
                    .invalidValue,
                    "expected one YAML document",
                    at: SourceLocation(file: file, line: documents[1].line, column: 1)
                )
            }
            if let document = documents.first {
                let root = Field(value: document, file: file, diagnostics: diagnostics)
                try configuration.read(root, environment: environment)
            }
        } catch let error as ResourceError {
            // An unknown field is usually the typo behind a missing one, so it goes first.
            throw ResourceErrors(diagnostics.warnings + [error])
        } catch {
            throw ResourceErrors([ResourceError(.unreadable, "\(error)", field: file)])
        }
        guard diagnostics.warnings.isEmpty else { throw ResourceErrors(diagnostics.warnings) }
        return configuration
    }

    private mutating func read(_ root: Field, environment: [String: String]?) throws(ResourceError) {
        let object = try root.object(known: [
            "listen", "admin", "tls", "authentication", "models", "access", "limits", "quotas", "prices", "guardrails",
            "audit", "flows", "metrics", "telemetry", "store",
        ])
        if let field = object["store"], let environment { store = try field.storeLocation(environment: environment) }
        if let field = object["listen"] { listen = try field.listenAddress() }
        if let admin = try object["admin"]?.object(known: ["listen"]), let field = admin["listen"] {
            adminListen = try field.listenAddress()
        }
        if let field = object["tls"] { tls = try field.tlsSettings() }
        if let field = object["authentication"] { try readAuthentication(field) }
        var seen: [String: Field] = [:]
        for item in try object["models"]?.list() ?? [] {
            let route = try item.modelRoute(environment: environment)
            for name in [route.name] + route.aliases {
                if let earlier = seen[name] {
                    throw item.error(.duplicate, "the model name \"\(name)\" is also used at \(earlier.location)")
                }
                seen[name] = item
            }
            models.append(route)
        }
        if let field = object["access"] { access = try field.accessPolicySet() }
        if let field = object["limits"] { limits = try field.requestLimits() }
        if let field = object["prices"] { try readPrices(field) }
        if let audit = try object["audit"]?.object(known: ["enabled"]) {
            auditEnabled = try audit["enabled"]?.bool() ?? true
        }
        if let field = object["flows"] { flows = try field.flowSettings() }
        if let metrics = try object["metrics"]?.object(known: ["identityLabels", "tokenFile"]) {
            if let field = metrics["tokenFile"], environment != nil {
                let path = try field.name()
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw field.error(.unreadable, "cannot read the token file \(path)")
                }
                let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard token.utf8.count >= 32, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw field.error(
                        .invalidValue,
                        "the token file \(path) must hold one token of at least 32 visible characters"
                    )
                }
                metricsTokenDigest = Array(SHA256.hash(data: Data(token.utf8)))
            }
            for item in try metrics["identityLabels"]?.list() ?? [] {
                let key = try item.string()
                guard Labels.problem(key: key, value: "") == nil else {
                    throw item.error(.invalidValue, "\"\(key)\" is not a label key")
                }
                metricsIdentityLabels.append(key)
            }
        }
        if let telemetry = try object["telemetry"]?.object(known: ["otlp"]), let field = telemetry["otlp"] {
            traces = try field.traceSettings()
        }
        for item in try object["guardrails"]?.list() ?? [] {
            let policy = try item.guardrailPolicy()
            guard !guardrails.contains(where: { $0.name == policy.name }) else {
                throw item.error(.duplicate, "guardrail \"\(policy.name)\" is declared twice")
            }
            guardrails.append(policy)
        }
        for item in try object["quotas"]?.list() ?? [] {
            let quota = try item.quota()
            guard !quotas.contains(where: { $0.name == quota.name }) else {
                throw item.error(.duplicate, "quota \"\(quota.name)\" is declared twice")
            }
            quotas.append(quota)
        }
        if tls.clientCertificates != .none && !tls.enabled {
            throw root.error(.invalidValue, "client certificates need TLS: set tls.enabled to true")
        }
    }

    private mutating func readAuthentication(_ field: Field) throws(ResourceError) {
        let object = try field.object(known: ["apiKeys", "jwt", "clientCertificates"])
        apiKeys = try object["apiKeys"]?.bool() ?? true
        for item in try object["jwt"]?.list() ?? [] { jwtIssuers.append(try item.jwtIssuer()) }
        for item in try object["clientCertificates"]?.list() ?? [] {
            let rule = try item.object(known: ["san", "name", "labels"])
            certificateIdentities.append(
                CertificateIdentityRule(
                    san: try rule.required("san").name(),
                    name: try rule["name"]?.name(),
                    labels: Labels(try rule["labels"]?.validLabels() ?? [:])
                )
            )
        }
        if !certificateIdentities.isEmpty && tls.clientCertificates == .none {
            throw field.error(
                .invalidValue,
                "clientCertificates rules need tls.clientCertificates: optional or required"
            )
        }
    }
}

extension Field {
    /// `store: postgres://…` or `store: {url: postgres://…, passwordFile: /run/secrets/pg/password}`; the
    /// password comes from the file or from `PGPASSWORD`, never from the URL.
    fileprivate func storeLocation(environment: [String: String]) throws(ResourceError) -> StoreLocation {
        var url = self
        var passwordFile: String?
        if (try? string()) == nil {
            let object = try object(known: ["url", "passwordFile"])
            guard let field = object["url"] else { throw error(.missingField, "store needs a url") }
            url = field
            passwordFile = try object["passwordFile"]?.name()
        }
        do {
            return try StoreLocation(try url.name(), passwordFile: passwordFile, environment: environment)
        } catch let error as StoreError {
            throw url.error(.invalidValue, error.reason)
        } catch {
            throw url.error(.invalidValue, "\(error)")
        }
    }

    fileprivate func listenAddress() throws(ResourceError) -> ListenAddress {
        let text = try string()
        guard let address = ListenAddress(parsing: text) else {
            throw error(.invalidValue, "expected host:port, found \"\(text)\"")
        }
        return address
    }

    /// `{endpoint, sampling, captureContent, serviceName}`: an `http` or `https` URL with a host.
    fileprivate func traceSettings() throws(ResourceError) -> TraceSettings {
        let object = try object(known: ["endpoint", "sampling", "captureContent", "serviceName"])
        let field = try object.required("endpoint")
        var endpoint = try field.string()
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.user == nil, url.query == nil
        else {
            throw field.error(
                .invalidValue,
                "the OTLP endpoint must be an http:// or https:// URL with a host, no credentials and no query"
            )
        }
        if url.path.isEmpty || url.path == "/" {
            endpoint = (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/v1/traces"
        }
        var settings = TraceSettings(endpoint: endpoint)
        if let field = object["sampling"] {
            settings.sampling = try field.number()
            guard (0...1).contains(settings.sampling) else {
                throw field.error(.invalidValue, "sampling is a share of traces, from 0 to 1")
            }
        }
        settings.captureContent = try object["captureContent"]?.bool() ?? false
        if let field = object["serviceName"] {
            settings.serviceName = try field.string()
            guard !settings.serviceName.isEmpty, settings.serviceName.utf8.count <= 128 else {
                throw field.error(.invalidValue, "the service name must be 1 to 128 characters")
            }
        }
        return settings
    }

    fileprivate func flowSettings() throws(ResourceError) -> FlowSettings {
        let object = try object(known: ["enabled", "bucket", "retention"])
        var settings = FlowSettings()
        settings.enabled = try object["enabled"]?.bool() ?? true
        if let field = object["bucket"] {
            settings.bucket = try field.duration()
            guard settings.bucket >= .seconds(1) else {
                throw field.error(.invalidValue, "the bucket must be at least 1s")
            }
        }
        if let field = object["retention"] {
            settings.retention = try field.duration()
            guard settings.retention >= .seconds(60) else {
                throw field.error(.invalidValue, "the retention must be at least 1m")
            }
        }
        return settings
    }

    /// `10s`, `500ms`, `2m`, `1h`, `7d`.
    func duration() throws(ResourceError) -> Duration {
        let text = try string()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            if let value = Double(text.dropLast(unit.count)), value >= 0, value.isFinite {
                return .milliseconds(Int64((value * scale * 1000).rounded()))
            }
        }
        throw error(.invalidValue, "expected a duration such as 500ms, 10s or 2m, found \"\(text)\"")
    }

    /// A byte count: `1048576`, `512KiB`, `4MiB`.
    func byteCount() throws(ResourceError) -> Int {
        if isPlainInteger {
            let value = try int()
            guard value > 0 else { throw error(.invalidValue, "must be positive") }
            return value
        }
        let text = try string()
        for (unit, scale) in [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)] where text.hasSuffix(unit) {
            if let value = Int(text.dropLast(unit.count)), value > 0, value <= Int(Int32.max) { return value * scale }
        }
        throw error(.invalidValue, "expected a size such as 65536, 512KiB or 4MiB, found \"\(text)\"")
    }

    fileprivate func validLabels() throws(ResourceError) -> [String: String] {
        let labels = try stringMap()
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if let problem = Labels.problem(key: key, value: value) { throw error(.invalidValue, problem) }
        }
        return labels
    }

    fileprivate func tlsSettings() throws(ResourceError) -> TLSSettings {
        let object = try object(known: ["enabled", "certificate", "key", "clientCA", "clientCertificates"])
        var tls = TLSSettings()
        tls.enabled = try object["enabled"]?.bool() ?? true
        tls.certificateFile = try object["certificate"]?.name()
        tls.keyFile = try object["key"]?.name()
        tls.clientCAFile = try object["clientCA"]?.name()
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw error(.invalidValue, "certificate and key go together: give both or neither")
        }
        if let field = object["clientCertificates"] {
            let text = try field.string()
            guard let mode = TLSSettings.ClientCertificates(rawValue: text) else {
                throw field.error(.invalidValue, "expected none, optional or required, found \"\(text)\"")
            }
            tls.clientCertificates = mode
        }
        if tls.clientCertificates != .none && tls.clientCAFile == nil {
            throw error(.missingField, "client certificates need clientCA, the bundle that verifies them")
        }
        return tls
    }

    fileprivate func jwtIssuer() throws(ResourceError) -> JWTIssuerSettings {
        let object = try object(known: [
            "issuer", "audiences", "jwksFile", "jwksURL", "jwksMinimumRefresh", "algorithms", "leeway",
            "subjectClaim", "claimLabels", "labels",
        ])
        let algorithmsField = try object.required("algorithms")
        let algorithms = try algorithmsField.stringList()
        let supported: Set<String> = [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
        ]
        guard !algorithms.isEmpty, algorithms.allSatisfy(supported.contains) else {
            throw algorithmsField.error(
                .invalidValue,
                "algorithms must list asymmetric algorithms from \(supported.sorted().joined(separator: ", "))"
            )
        }
        let audiencesField = try object.required("audiences")
        let audiences = try audiencesField.stringList()
        guard !audiences.isEmpty else { throw audiencesField.error(.invalidValue, "at least one audience is required") }
        let issuerField = try object.required("issuer")
        let issuerName = try issuerField.name()
        guard !issuerName.contains("#") else {
            // Callers are named issuer#subject: one `#` keeps every name to one issuer and subject.
            throw issuerField.error(.invalidValue, "an issuer has no fragment (#)")
        }
        var issuer = JWTIssuerSettings(issuer: issuerName, audiences: audiences, algorithms: algorithms)
        issuer.jwksFile = try object["jwksFile"]?.name()
        issuer.jwksURL = try object["jwksURL"]?.name()
        guard (issuer.jwksFile == nil) != (issuer.jwksURL == nil) else {
            throw error(.invalidValue, "give exactly one of jwksFile and jwksURL")
        }
        if let url = issuer.jwksURL, UpstreamSettings(url: url) == nil, let field = object["jwksURL"] {
            throw field.error(.invalidValue, "expected an http or https URL")
        }
        if let field = object["jwksMinimumRefresh"] { issuer.jwksMinimumRefresh = try field.duration() }
        if let field = object["leeway"] { issuer.leeway = try field.duration() }
        if let field = object["subjectClaim"] { issuer.subjectClaim = try field.name() }
        issuer.claimLabels = try object["claimLabels"]?.stringMap() ?? [:]
        issuer.labels = try object["labels"]?.validLabels() ?? [:]
        return issuer
    }

    fileprivate func modelRoute(environment: [String: String]?) throws(ResourceError) -> ModelRoute {
        let object = try object(known: [
            "name", "aliases", "labels", "upstreams", "healthCheck", "price", "maxOutputTokens", "maxTokensField",
        ])
        let upstreamsField = try object.required("upstreams")
        var upstreams: [UpstreamSettings] = []
        for item in try upstreamsField.list() { upstreams.append(try item.upstream(environment: environment)) }
        guard !upstreams.isEmpty else {
            throw upstreamsField.error(.invalidValue, "a model needs at least one upstream")
        }
        var route = ModelRoute(
            name: try object.required("name").name(),
            aliases: try object["aliases"]?.stringList() ?? [],
            labels: Labels(try object["labels"]?.validLabels() ?? [:]),
            upstreams: upstreams
        )
        if let field = object["price"] { route.price = try field.modelPrice() }
        if let field = object["maxOutputTokens"] { route.maxOutputTokens = try field.positive(atMost: 10_000_000) }
        if let field = object["maxTokensField"] {
            let text = try field.string()
            guard let choice = ModelRoute.MaxTokensField(rawValue: text) else {
                throw field.error(.invalidValue, "expected max_tokens or max_completion_tokens, found \"\(text)\"")
            }
            route.maxTokensField = choice
        }
        if let health = try object["healthCheck"]?.object(known: ["path", "interval"]) {
            if let field = health["path"] {
                let path = try field.string()
                guard path.hasPrefix("/") else { throw field.error(.invalidValue, "a path starts with /") }
                route.healthCheckPath = path
            }
            if let field = health["interval"] { route.healthCheckInterval = try field.duration() }
        }
        return route
    }

    fileprivate func upstream(environment: [String: String]?) throws(ResourceError) -> UpstreamSettings {
        let object = try object(known: [
            "url", "model", "credentialEnv", "credentialFile", "connectTimeout", "responseTimeout", "idleTimeout",
            "tls",
        ])
        let urlField = try object.required("url")
        guard var upstream = UpstreamSettings(url: try urlField.string()) else {
            throw urlField.error(
                .invalidValue,
                "expected an http:// or https:// URL without query, fragment or user info"
            )
        }
        upstream.model = try object["model"]?.name()
        if let field = object["credentialEnv"], let environment {
            let name = try field.name()
            guard let value = environment[name], !value.isEmpty else {
                throw field.error(.invalidValue, "the environment variable \(name) is not set")
            }
            guard Self.isHeaderSafe(value) else {
                throw field.error(
                    .invalidValue,
                    "the environment variable \(name) holds characters a header cannot carry"
                )
            }
            upstream.credential = Secret(value)
        }
        if let field = object["credentialFile"], environment != nil {
            guard upstream.credential == nil else {
                throw field.error(.invalidValue, "give credentialEnv or credentialFile, not both")
            }
            let path = try field.name()
            guard let data = FileManager.default.contents(atPath: path) else {
                throw field.error(.unreadable, "cannot read the credential file \(path)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty, Self.isHeaderSafe(value) else {
                throw field.error(.invalidValue, "the credential file \(path) must hold one line")
            }
            upstream.credential = Secret(value)
        }
        if let field = object["connectTimeout"] { upstream.connectTimeout = try field.duration() }
        if let field = object["responseTimeout"] { upstream.responseTimeout = try field.duration() }
        if let field = object["idleTimeout"] { upstream.idleTimeout = try field.duration() }
        if let field = object["tls"] {
            guard upstream.scheme == .https else {
                throw field.error(.invalidValue, "tls applies to https:// upstreams only")
            }
            upstream.tls = try field.upstreamTLS(readingFiles: environment != nil)
        }
        return upstream
    }

    /// How the gateway checks an upstream and shows itself to it. Every file is read now, so a missing
    /// or unreadable one refuses the configuration instead of the upstream being reached unchecked.
    fileprivate func upstreamTLS(readingFiles: Bool) throws(ResourceError) -> UpstreamTLSSettings {
        let object = try object(known: ["ca", "certificate", "key", "serverName", "subjectAltNames"])
        var tls = UpstreamTLSSettings()
        var material = SHA256()
        for (key, keyPath) in [
            ("ca", \UpstreamTLSSettings.caFile), ("certificate", \.certificateFile), ("key", \.keyFile),
        ] {
            guard let field = object[key] else { continue }
            let path = try field.name()
            tls[keyPath: keyPath] = path
            guard readingFiles else { continue }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw field.error(.unreadable, "cannot read \(path)")
            }
            material.update(data: Data(key.utf8) + contents)
        }
        tls.materialDigest = Array(material.finalize())
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw error(.invalidValue, "certificate and key go together: give both or neither")
        }
        if let field = object["serverName"] {
            let name = try field.name()
            guard case .dns = SubjectAltName(parsing: name) else {
                throw field.error(.invalidValue, "\"\(name)\" is not a DNS name")
            }
            tls.serverName = name
        }
        for item in try object["subjectAltNames"]?.list() ?? [] {
            let name = try item.name()
            guard let expected = SubjectAltName(parsing: name) else {
                throw item.error(.invalidValue, "expected a DNS name or a spiffe:// ID, found \"\(name)\"")
            }
            tls.subjectAltNames.append(expected)
        }
        guard readingFiles else { return tls }
        do {
            _ = try tls.context()
        } catch {
            throw self.error(.invalidValue, "the TLS files do not make a client context: \(error)")
        }
        return tls
    }

    /// Visible ASCII and spaces only: what an `Authorization` header value may carry.
    fileprivate static func isHeaderSafe(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    fileprivate func accessPolicySet() throws(ResourceError) -> AccessPolicySet {
        let object = try object(known: ["tiers", "policies"])
        var tiers: [Tier] = []
        for item in try object["tiers"]?.list() ?? [] {
            let tier = try item.accessTier()
            guard !tiers.contains(where: { $0.name == tier.name }) else {
                throw item.error(.duplicate, "tier \"\(tier.name)\" is declared twice")
            }
            tiers.append(tier)
        }
        var policies: [AccessPolicy] = []
        for item in try object["policies"]?.list() ?? [] {
            let policy = try item.accessPolicy()
            guard policy.tier == Tier.default.name || tiers.contains(where: { $0.name == policy.tier }) else {
                throw item.error(.unknownReference, "tier \"\(policy.tier)\" is not declared under access.tiers")
            }
            guard !policies.contains(where: { $0.name == policy.name }) else {
                throw item.error(.duplicate, "policy \"\(policy.name)\" is declared twice")
            }
            policies.append(policy)
        }
        return AccessPolicySet(tiers: tiers, policies: policies)
    }

    fileprivate func requestLimits() throws(ResourceError) -> RequestLimits {
        let object = try object(known: [
            "maxBodyBytes", "maxHeaderCount", "maxHeaderBytes", "headerTimeout", "idleTimeout",
            "minBodyBytesPerSecond", "bodyRateWindow", "drainTimeout", "shutdownDelay", "handshakeTimeout",
            "budgetWait",
        ])
        var limits = RequestLimits()
        if let field = object["maxBodyBytes"] { limits.maxBodyBytes = try field.byteCount() }
        if let field = object["maxHeaderBytes"] { limits.maxHeaderBytes = try field.byteCount() }
        if let field = object["maxHeaderCount"] {
            limits.maxHeaderCount = try field.int()
            guard (1...1000).contains(limits.maxHeaderCount) else {
                throw field.error(.invalidValue, "must be 1 to 1000")
            }
        }
        if let field = object["headerTimeout"] { limits.headerTimeout = try field.duration() }
        if let field = object["idleTimeout"] { limits.idleTimeout = try field.duration() }
        if let field = object["minBodyBytesPerSecond"] { limits.minBodyBytesPerSecond = try field.byteCount() }
        if let field = object["bodyRateWindow"] {
            limits.bodyRateWindow = try field.duration()
            // A zero window would check the rate continuously, and never refuse.
            guard limits.bodyRateWindow > .zero else {
                throw field.error(.invalidValue, "bodyRateWindow must be above zero")
            }
        }
        if let field = object["drainTimeout"] { limits.drainTimeout = try field.duration() }
        if let field = object["shutdownDelay"] { limits.shutdownDelay = try field.duration() }
        if let field = object["handshakeTimeout"] { limits.handshakeTimeout = try field.duration() }
        if let field = object["budgetWait"] {
            limits.budgetWait = try field.duration()
            guard limits.budgetWait <= .seconds(60) else { throw field.error(.invalidValue, "must be at most 60s") }
        }
        return limits
    }
}

import Foundation

extension ClusterConnection {
    /// Where service-account credentials are mounted in a pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Resolves the connection as kubectl does: `--kubeconfig`, else `KUBECONFIG` (a list of files; the first
    /// to name a cluster, user or context wins, and the first `current-context`), else `~/.kube/config`;
    /// with none of them, the pod's own service account.
    public static func resolve(
        kubeconfig: String?,
        context: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = ClusterConnection.serviceAccountDirectory
    ) throws(ClusterError) -> ClusterConnection {
        var files: [String]
        if let kubeconfig {
            files = [kubeconfig]
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            files = list.split(separator: ":").map(String.init)
        } else {
            files = []
            if let home = environment["HOME"], FileManager.default.fileExists(atPath: "\(home)/.kube/config") {
                files = ["\(home)/.kube/config"]
            }
        }
        if files.isEmpty {
            guard environment["KUBERNETES_SERVICE_HOST"] != nil else {
                throw ClusterError(
                    .configuration,
                    "no kubeconfig: give --kubeconfig, set KUBECONFIG or write ~/.kube/config (in a pod, the service account is used)"
                )
            }
            if let context { throw ClusterError(.configuration, "context \"\(context)\": there is no kubeconfig") }
            return try inCluster(environment: environment, directory: serviceAccountDirectory)
        }
        if kubeconfig == nil, context == nil, environment["KUBERNETES_SERVICE_HOST"] != nil,
            !files.contains(where: { FileManager.default.fileExists(atPath: $0) })
        {
            // As client-go: a KUBECONFIG whose files are all missing is an empty configuration, and in a pod
            // that means the service account.
            return try inCluster(environment: environment, directory: serviceAccountDirectory)
        }
        return try fromKubeconfig(files: files, context: context, environment: environment)
    }

    /// A pod's service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, and the token, CA and namespace files.
    public static func inCluster(
        environment: [String: String],
        directory: String = ClusterConnection.serviceAccountDirectory
    ) throws(ClusterError) -> ClusterConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw ClusterError(.configuration, "in-cluster configuration: KUBERNETES_SERVICE_HOST is not set")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw ClusterError(.configuration, "in-cluster configuration: KUBERNETES_SERVICE_PORT is not set")
        }
        guard UInt16(port) != nil else {
            throw ClusterError(
                .configuration,
                "in-cluster configuration: KUBERNETES_SERVICE_PORT \(port) is not a port"
            )
        }
        let tokenFile = "\(directory)/token"
        guard FileManager.default.isReadableFile(atPath: tokenFile) else {
            throw ClusterError(.configuration, "in-cluster configuration: cannot read the token file \(tokenFile)")
        }
        let certificateAuthority = try contents(
            of: "\(directory)/ca.crt",
            what: "in-cluster configuration: the CA file"
        )
        let namespace = FileManager.default.contents(atPath: "\(directory)/namespace").flatMap {
            String(data: $0, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ClusterConnection(
            name: "in-cluster",
            server: "https://\(host.contains(":") ? "[\(host)]" : host):\(port)",
            certificateAuthority: certificateAuthority,
            credential: .tokenFile(tokenFile),
            namespace: namespace
        )
    }

    private static func fromKubeconfig(
        files: [String],
        context requested: String?,
        environment: [String: String]
    ) throws(ClusterError) -> ClusterConnection {
        var clusters: [String: (KubeconfigFile.Cluster, String)] = [:]
        var users: [String: (KubeconfigFile.User, String)] = [:]
        var contexts: [String: KubeconfigFile.Context] = [:]
        var current: String?
        var read = 0
        for file in files {
            // As kubectl: a file named in KUBECONFIG that does not exist is skipped; one given with
            // --kubeconfig is not (the list has one entry, checked below).
            guard FileManager.default.fileExists(atPath: file) else { continue }
            let config = try KubeconfigFile.read(file)
            read += 1
            let folder = (file as NSString).deletingLastPathComponent
            for entry in config.clusters ?? [] where clusters[entry.name] == nil {
                if let value = entry.value { clusters[entry.name] = (value, folder) }
            }
            for entry in config.users ?? [] where users[entry.name] == nil {
                if let value = entry.value { users[entry.name] = (value, folder) }
            }
            for entry in config.contexts ?? [] where contexts[entry.name] == nil {
                if let value = entry.value { contexts[entry.name] = value }
            }
            if current == nil, let name = config.currentContext, !name.isEmpty { current = name }
        }
        let described = files.joined(separator: ":")
        guard read > 0 else { throw ClusterError(.configuration, "kubeconfig \(described): no such file") }
        guard let name = requested ?? current else {
            throw ClusterError(.configuration, "kubeconfig \(described) has no current-context: give --context")
        }
        guard let context = contexts[name] else {
            throw ClusterError(.configuration, "context \"\(name)\" is not in kubeconfig \(described)")
        }
        guard let clusterName = context.cluster, let found = clusters[clusterName] else {
            throw ClusterError(
                .configuration,
                "context \"\(name)\" names cluster \"\(context.cluster ?? "")\", which is not in kubeconfig \(described)"
            )
        }
        let (cluster, clusterFolder) = found
        guard let server = cluster.server, !server.isEmpty else {
            throw ClusterError(.configuration, "cluster \"\(clusterName)\" has no server")
        }
        try check(server: server, cluster: clusterName)
        if cluster.tlsServerName != nil || cluster.proxyURL != nil {
            throw ClusterError(
                .configuration,
                "cluster \"\(clusterName)\": tls-server-name and proxy-url are not supported; connect to the server directly"
            )
        }
        if cluster.insecureSkipTLSVerify == true
            && (cluster.certificateAuthority != nil || cluster.certificateAuthorityData != nil)
        {
            // client-go refuses this pair: which of the two was meant is a guess.
            throw ClusterError(
                .configuration,
                "cluster \"\(clusterName)\": insecure-skip-tls-verify and a certificate-authority cannot go together"
            )
        }
        let certificateAuthority = try material(
            data: cluster.certificateAuthorityData,
            file: cluster.certificateAuthority,
            folder: clusterFolder,
            what: "cluster \"\(clusterName)\": certificate-authority"
        )
        var credential = ClusterConnection.Credential.none
        if let userName = context.user, !userName.isEmpty {
            guard let found = users[userName] else {
                throw ClusterError(
                    .configuration,
                    "context \"\(name)\" names user \"\(userName)\", which is not in kubeconfig \(described)"
                )
            }
            credential = try self.credential(found.0, named: userName, folder: found.1)
        }
        return ClusterConnection(
            name: name,
            server: server,
            certificateAuthority: certificateAuthority,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            credential: credential,
            namespace: context.namespace
        )
    }

    /// Only https, but plain http to a loopback address (`kubectl proxy`), where nothing crosses a network.
    private static func check(server: String, cluster: String) throws(ClusterError) {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw ClusterError(.configuration, "cluster \"\(cluster)\": server \(server) is not a URL")
        }
        if scheme == "https" { return }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
        guard scheme == "http", loopback else {
            throw ClusterError(
                .configuration,
                "cluster \"\(cluster)\": server \(server) must be https (plain http only to a loopback address)"
            )
        }
    }

    private static func credential(
        _ user: KubeconfigFile.User,
        named name: String,
        folder: String
    ) throws(ClusterError) -> ClusterConnection.Credential {
        if user.exec != nil {
            throw ClusterError(
                .configuration,
                "user \"\(name)\" gets its credentials from an exec plugin, which gatehouse does not run: "
                    + "use a context with a token or a client certificate (a token from `kubectl create token`, say)"
            )
        }
        if user.authProvider != nil {
            throw ClusterError(
                .configuration,
                "user \"\(name)\" uses an auth-provider, which gatehouse does not support: use a token or a client certificate"
            )
        }
        if user.username != nil {
            throw ClusterError(
                .configuration,
                "user \"\(name)\" uses basic authentication, which gatehouse does not support: use a token or a client certificate"
            )
        }
        let chain = try material(
            data: user.clientCertificateData,
            file: user.clientCertificate,
            folder: folder,
            what: "user \"\(name)\": client-certificate"
        )
        let key = try material(
            data: user.clientKeyData,
            file: user.clientKey,
            folder: folder,
            what: "user \"\(name)\": client-key"
        )
        switch (chain, key) {
        case (let chain?, let key?):
            return .certificate(chain: chain, key: key)
        case (nil, nil):
            break
        default:
            throw ClusterError(
                .configuration,
                "user \"\(name)\": a client certificate needs its key, and a key its certificate"
            )
        }
        // As client-go: a token file, read again as it is rotated, wins over an inline token.
        if let file = user.tokenFile, !file.isEmpty { return .tokenFile(path(file, in: folder)) }
        if let token = user.token, !token.isEmpty { return .token(token) }
        return .none
    }

    /// Inline base64 data (`…-data`) wins over a file, as in client-go.
    private static func material(
        data: String?,
        file: String?,
        folder: String,
        what: String
    ) throws(ClusterError) -> [UInt8]? {
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw ClusterError(.configuration, "\(what)-data is not base64")
            }
            return Array(decoded)
        }
        guard let file, !file.isEmpty else { return nil }
        return try contents(of: path(file, in: folder), what: what)
    }

    private static func contents(of file: String, what: String) throws(ClusterError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ClusterError(.configuration, "\(what) \(file): cannot read the file")
        }
        return Array(data)
    }

    /// Relative paths in a kubeconfig are relative to the file that names them.
    private static func path(_ file: String, in folder: String) -> String {
        file.hasPrefix("/") || folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
    }
}

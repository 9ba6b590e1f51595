import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The data plane's certificate and key: the configured files, or a self-signed pair made on first
/// start and kept (key readable by the owner only) in the data directory.
public struct TLSMaterial: Sendable {
    public let certificateFile: String
    public let keyFile: String
    /// SHA-256 of the leaf certificate's DER, as `AB:CD:...`, for clients to pin or compare.
    public let fingerprint: String
    /// Whether this start made the pair.
    public let generated: Bool

    public static func prepare(settings: TLSSettings, dataDirectory: URL) throws -> TLSMaterial {
        if let certificateFile = settings.certificateFile, let keyFile = settings.keyFile {
            return TLSMaterial(
                certificateFile: certificateFile,
                keyFile: keyFile,
                fingerprint: try fingerprint(ofPEMFile: certificateFile),
                generated: false
            )
        }
        let directory = dataDirectory.appending(path: "tls")
        let certificateFile = directory.appending(path: "server.crt").path
        let keyFile = directory.appending(path: "server.key").path
        var generated = false
        if !FileManager.default.fileExists(atPath: certificateFile) || !FileManager.default.fileExists(atPath: keyFile)
        {
            try FileManager.default.createDirectory(
                at: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            let (certificate, key) = try makeSelfSigned()
            guard
                FileManager.default.createFile(
                    atPath: keyFile,
                    contents: Data(key.utf8),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: keyFile]) }
            try Data(certificate.utf8).write(to: URL(filePath: certificateFile))
            generated = true
        }
        return TLSMaterial(
            certificateFile: certificateFile,
            keyFile: keyFile,
            fingerprint: try fingerprint(ofPEMFile: certificateFile),
            generated: generated
        )
    }

    /// The server TLS context: TLS 1.2+, HTTP/1.1 by ALPN, client certificates as configured.
    public func serverContext(settings: TLSSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let clientCA = settings.clientCAFile {
            configuration.trustRoots = .file(clientCA)
            configuration.certificateVerification =
                settings.clientCertificates == .required ? .noHostnameVerification : .optionalVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// A P-256 certificate for `localhost`, `127.0.0.1` and `::1`, valid for a year.
    static func makeSelfSigned(now: Date = Date()) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Gatehouse")
            CommonName("gatehouse self-signed")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return (try certificate.serializeAsPEM().pemString + "\n", key.pemRepresentation + "\n")
    }

    static func fingerprint(ofPEMFile file: String) throws -> String {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let document = try PEMDocument(pemString: text)
        return SHA256.hash(data: document.derBytes).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}

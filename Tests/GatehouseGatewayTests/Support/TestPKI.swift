import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away CA and the client and server certificates it signs, as PEM, for mTLS tests.
struct TestPKI {
    let caKey = P256.Signing.PrivateKey()
    let caName: DistinguishedName
    let caCertificate: Certificate

    init() throws {
        let name = try DistinguishedName { CommonName("gatehouse test CA") }
        caName = name
        caCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                KeyUsage(keyCertSign: true)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
    }

    var caPEM: String { (try? caCertificate.serializeAsPEM().pemString) ?? "" }

    /// A client certificate for `uri` (a SPIFFE ID, say) and its key, as PEM.
    func client(uri: String) throws -> (certificate: String, key: String) {
        try issue(subject: "client", names: [.uniformResourceIdentifier(uri)], usage: .clientAuth)
    }

    /// A client certificate whose only SAN is the DNS name `dns`, and its key, as PEM.
    func client(dns: String) throws -> (certificate: String, key: String) {
        try issue(subject: "client", names: [.dnsName(dns)], usage: .clientAuth)
    }

    /// A server certificate for `names` (DNS names, or URIs such as SPIFFE IDs), always valid for
    /// 127.0.0.1, and its key, as PEM; `validUntil` in the past makes an expired one.
    func server(
        names: [String],
        validUntil: Date = Date().addingTimeInterval(86_400)
    ) throws -> (
        certificate: String, key: String
    ) {
        let names = names.map { $0.contains("://") ? GeneralName.uniformResourceIdentifier($0) : .dnsName($0) }
        return try issue(
            subject: "model server",
            names: names + [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))],
            usage: .serverAuth,
            validUntil: validUntil
        )
    }

    private func issue(
        subject: String,
        names: [GeneralName],
        usage: ExtendedKeyUsage.Usage,
        validUntil: Date = Date().addingTimeInterval(86_400)
    ) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: min(Date().addingTimeInterval(-3600), validUntil.addingTimeInterval(-7200)),
            notValidAfter: validUntil,
            issuer: caName,
            subject: try DistinguishedName { CommonName(subject) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true)
                try ExtendedKeyUsage([usage])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }
}

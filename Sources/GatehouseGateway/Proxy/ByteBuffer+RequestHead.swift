import NIOCore
import NIOHTTP1

extension ByteBuffer {
    /// Writes `head` as a request line and header fields, and the blank line after them. The heads
    /// written are the gateway's own, built from checked values (see `Forwarder`): nothing is validated
    /// here.
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        writeString(head.method.rawValue)
        writeStaticString(" ")
        writeString(head.uri)
        writeStaticString(" HTTP/")
        writeString(String(head.version.major))
        writeStaticString(".")
        writeString(String(head.version.minor))
        writeStaticString("\r\n")
        for (name, value) in head.headers {
            writeString(name)
            writeStaticString(": ")
            writeString(value)
            writeStaticString("\r\n")
        }
        writeStaticString("\r\n")
    }
}

/// Why one line of a flow log could not be read.
struct FlowLogError: Error {
    let reason: String
}

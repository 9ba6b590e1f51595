/// What a rule's class mask depends on, so rules with the same criteria share one computation.
struct MaskKey: Hashable {
    let protocols: ProtocolMatch
    let ports: [PortMatch]
    let notPorts: [PortMatch]
}

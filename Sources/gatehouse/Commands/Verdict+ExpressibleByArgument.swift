import ArgumentParser
import GatehouseCore

extension Verdict: ExpressibleByArgument {}

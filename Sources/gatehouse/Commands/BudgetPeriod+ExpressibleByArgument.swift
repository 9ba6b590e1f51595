import ArgumentParser
import GatehouseCore

extension BudgetPeriod: ExpressibleByArgument {}

import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseStore

/// `gatehouse flows --from-namespace web --verdict deny --since 1h -o json`, and `--follow`.
struct FlowsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List stored flows, oldest first (the newest --last of those that match).",
        discussion: """
            Flows are aggregated into buckets (15 s by default) and stored when a bucket closes; --follow
            prints new ones as they are stored. The admin API's /v1/flows?follow=true streams them live.
            """
    )

    @OptionGroup var filters: FlowFilterOptions
    @OptionGroup var range: TimeRangeOptions

    @Option(help: "At most this many flows (the newest).")
    var last: Int = 100

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new flows as they are stored.")
    var follow = false

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...100_000).contains(last) else { throw ValidationError("--last must be between 1 and 100000") }
        if follow && output.output == .yaml { throw ValidationError("--follow prints a table or JSON lines") }
        _ = try parameters()
    }

    func parameters() throws -> FlowParameters {
        var pairs = filters.pairs
        if let since = range.since { pairs.append(("since", since)) }
        if let until = range.until { pairs.append(("until", until)) }
        pairs.append(("last", String(last)))
        do {
            return try FlowParameters(pairs)
        } catch {
            throw ValidationError("--\(error.parameter): \(error.reason)")
        }
    }

    func run() throws {
        let parameters = try parameters()
        do {
            let store = try data.open()
            var query = FlowQuery(filter: parameters.query, limit: parameters.limit)
            // Followed from the newest row id before the listing (ids, not times, tell what is new).
            var lastID = try store.lastFlowID()
            let flows = try store.flows(query).filter { $0.id <= lastID }
            if follow {
                var printedHeader = false
                var batch = flows
                while true {
                    emit(batch, header: !printedHeader)
                    printedHeader = printedHeader || !batch.isEmpty
                    lastID = max(lastID, batch.map(\.id).max() ?? 0)
                    Thread.sleep(forTimeInterval: 1)
                    query.after = lastID
                    query.limit = 10_000
                    batch = try store.flows(query)
                }
            }
            switch output.output {
            case .table:
                Console.table(FlowTable.render(flows, header: true), empty: "no flows match")
            case .json, .yaml:
                print(try StructuredOutput.render(FlowListing(flows), as: output.output))
            }
        } catch {
            Console.error((error as? StoreError)?.reason ?? "\(error)")
            throw ExitCode(1)
        }
    }

    /// While following: a table row per flow, or one JSON object per line.
    private func emit(_ flows: [StoredFlow], header: Bool) {
        guard !flows.isEmpty else { return }
        switch output.output {
        case .json, .yaml:
            let encoder = FlowListing.makeEncoder()
            for flow in flows {
                if let line = try? encoder.encode(FlowListing.Item(id: flow.id, flow: flow.flow)) {
                    Console.line(String(decoding: line, as: UTF8.self))
                }
            }
        case .table:
            let text = FlowTable.render(flows, header: header)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseStore
import Testing

/// An import in batches (as a long log or a pipe is read) stores what one batch would.
@Suite struct FlowImportBatchTests {
    @Test func batchesAddUpToTheWholeImport() throws {
        let directory = FlowSamples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        var reader = try FlowImportTests.reader()
        let engine = try FlowImportTests.engine("ai-namespace")
        let importer = FlowImport(
            engine: engine,
            proposed: try FlowImportTests.engine("ai-namespace-proposed"),
            store: store
        )
        for flow in reader.takeFlows() { try importer.process([flow]) }
        try importer.finish()
        #expect(reader.flows.isEmpty)
        #expect(reader.flowCount == 7)
        #expect(importer.evaluated == 7)
        #expect(importer.disagreementCount == 2)
        #expect(importer.changeCount == 3)
        #expect(importer.stored == 7)
        #expect(try store.flowCount() == 7)
        // A dry run stores nothing.
        let dry = FlowImport(engine: engine, proposed: nil, store: nil)
        try dry.process(FlowEvaluation(try FlowImportTests.reader().flows, engine: nil).outcomes.map(\.observed))
        try dry.finish()
        #expect(dry.stored == 0)
        #expect(dry.evaluated == 7)
    }
}

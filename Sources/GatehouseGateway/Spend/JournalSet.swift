import Foundation
import GatehouseStore
import NIOPosix
import Synchronization

/// The gateway's ledger journals (`LedgerJournal`): one per event loop, so a request's charge and audit
/// record are made durable on its own loop without waiting for another loop or a thread hop, and one
/// for everything else; and what of them the store does not have yet.
final class JournalSet: Sendable {
    fileprivate final class Stream: Sendable {
        struct State {
            let file: LedgerJournal
            var unmoved: [LedgerOperation] = []
            /// The newest file removed (the store had all of it).
            var removedThrough: Int64 = 0
        }

        let name: String
        let state: Mutex<State>

        init(file: LedgerJournal) {
            name = file.name
            state = Mutex(State(file: file))
        }
    }

    /// What a move takes out of the journals: their operations, and the marks that say the store has them.
    struct Batch {
        fileprivate var taken: [(stream: Stream, generation: Int64, operations: [LedgerOperation])] = []

        var operations: [LedgerOperation] { taken.flatMap(\.operations) }
        var marks: [LedgerOperation] {
            taken.map { .journalMoved(journal: $0.stream.name, generation: $0.generation) }
        }
        var isEmpty: Bool { taken.isEmpty }
    }

    enum Appended {
        case written(unmoved: Int)
        case failed(any Error)
    }

    private let directory: URL
    private let owner: String
    private let shared: Stream
    private let streams = Mutex<[ObjectIdentifier: Stream]>([:])

    init(directory: URL, owner: String) throws(StoreError) {
        self.directory = directory
        self.owner = owner
        shared = Stream(file: try LedgerJournal(directory: directory, owner: owner, stream: 0))
    }

    /// Appends `operations` to the calling event loop's journal (the shared one off the loops).
    func append(_ operations: [LedgerOperation]) -> Appended {
        let stream: Stream
        do {
            stream = try current()
        } catch {
            return .failed(error)
        }
        return stream.state.withLock { state in
            do {
                state.unmoved += try state.file.append(operations)
            } catch {
                return .failed(error)
            }
            return .written(unmoved: state.unmoved.count)
        }
    }

    /// Takes what every journal has that the store does not; appends meanwhile go to new files.
    func take() -> Batch {
        var batch = Batch()
        for stream in all() {
            stream.state.withLock { state in
                guard !state.unmoved.isEmpty else { return }
                let generation = state.file.generation
                // Without a new file this stream's operations wait for the next move (their file stays)
                // and its appends fail over to the store meanwhile: nothing is lost.
                guard (try? state.file.startNext()) != nil else { return }
                batch.taken.append((stream, generation, state.unmoved))
                state.unmoved = []
            }
        }
        return batch
    }

    /// The store has `batch`: its files go.
    func moved(_ batch: Batch) {
        for (stream, generation, _) in batch.taken {
            stream.state.withLock { state in
                state.file.removeFiles(from: state.removedThrough + 1, through: generation)
                state.removedThrough = generation
            }
        }
    }

    /// The store could not take `batch`: it goes back, before what came meanwhile.
    func restore(_ batch: Batch) {
        for (stream, _, operations) in batch.taken {
            stream.state.withLock { $0.unmoved = operations + $0.unmoved }
        }
    }

    var isMoved: Bool { all().allSatisfy { $0.state.withLock { $0.unmoved.isEmpty } } }

    /// Removes every file (the store has everything).
    func removeAll() {
        for stream in all() {
            stream.state.withLock { state in
                state.file.removeFiles(from: state.removedThrough + 1, through: state.file.generation)
                state.removedThrough = state.file.generation
            }
        }
    }

    private func all() -> [Stream] { [shared] + streams.withLock { Array($0.values) } }

    private func current() throws(StoreError) -> Stream {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return shared }
        let id = ObjectIdentifier(loop)
        return try streams.withLock { streams throws(StoreError) -> Stream in
            if let stream = streams[id] { return stream }
            let made = Stream(file: try LedgerJournal(directory: directory, owner: owner, stream: streams.count + 1))
            streams[id] = made
            return made
        }
    }
}

// Guardrail scanning on the hot path, measured in-process: the time `AnswerMeter` spends on each
// streamed chunk with every built-in detector on (redacting) against the same meter with guardrails
// off, and `PromptGuard` on a chat request body. Prints medians and 99th percentiles.
// Usage: swift run -c release gatehouse-guard-bench [ROUNDS]   (Benchmarks/guard/run.sh)
import GatehouseCore
import GatehouseGateway
import GatehouseGuard
import NIOCore

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20 : 20
let eventsPerRound = 2_000

/// A realistic answer chunk: OpenAI's chunk shape, one to four words, now and then an address or number.
func chunk(_ index: Int) -> ByteBuffer {
    let words = ["The", " answer", " depends", " on", " the", " context,", " see", " section", " 4.2", " and"]
    var piece = ""
    for offset in 0..<(1 + index % 4) { piece += words[(index + offset) % words.count] }
    if index % 97 == 0 { piece += " mail ops@example.com" }
    if index % 89 == 0 { piece += " call +44 20 7946 0958" }
    let json =
        #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764115200,"model":"bench","#
        + #""choices":[{"index":0,"delta":{"content":"\#(piece)"},"finish_reason":null}]}"# + "\n\n"
    return ByteBuffer(string: json)
}

let chunks = (0..<eventsPerRound).map(chunk)
let everything = try GuardScanner(GuardConfiguration())
let policy = GuardrailPolicy(name: "bench", selector: .all, scanner: everything)
var redacting = policy
redacting.answers = .redact

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

@MainActor func measure(guarded: Bool) -> [Double] {
    var samples: [Double] = []
    samples.reserveCapacity(rounds * eventsPerRound)
    for _ in 0..<rounds {
        let meter = AnswerMeter(
            stream: true,
            dropUsageOnlyEvents: false,
            answerGuard: guarded ? AnswerGuard(policies: [redacting]) : nil
        )
        for buffer in chunks {
            let start = ContinuousClock.now
            let output = meter.consume(buffer)
            let elapsed = ContinuousClock.now - start
            precondition(output != nil)
            samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        _ = meter.finish()
    }
    return samples.sorted()
}

// Interleaved, so both see the same machine.
var off: [Double] = []
var on: [Double] = []
for _ in 0..<3 {
    off += measure(guarded: false)
    on += measure(guarded: true)
}
off.sort()
on.sort()
print("| streamed chunk (\(on.count) per side) | p50 µs | p99 µs |")
print("|---|---|---|")
print("| guardrails off | \(format(percentile(off, 0.5))) | \(format(percentile(off, 0.99))) |")
print("| all detectors, redacting | \(format(percentile(on, 0.5))) | \(format(percentile(on, 0.99))) |")
print(
    "| added by scanning | \(format(percentile(on, 0.5) - percentile(off, 0.5))) | \(format(percentile(on, 0.99) - percentile(off, 0.99))) |"
)

var body = #"{"model":"bench","messages":[{"role":"system","content":"You are a helpful assistant."}"#
for turn in 0..<8 {
    body += #",{"role":"user","content":"Question \#(turn): how do I rotate the keys of service \#(turn) safely?"}"#
    body += #",{"role":"assistant","content":"Rotate them one region at a time and watch the error rate."}"#
}
body += "]}"
let request = ByteBuffer(string: body)
var prompt: [Double] = []
for _ in 0..<(rounds * 500) {
    let start = ContinuousClock.now
    if case .blocked = PromptGuard.check(request, policies: [policy]) { fatalError("nothing to block") }
    let elapsed = ContinuousClock.now - start
    prompt.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
}
prompt.sort()
print("")
print("| prompt check (\(request.readableBytes)-byte chat body, 17 messages) | p50 µs | p99 µs |")
print("|---|---|---|")
print("| all detectors | \(format(percentile(prompt, 0.5))) | \(format(percentile(prompt, 0.99))) |")

func format(_ value: Double) -> String {
    let hundredths = abs(Int((value * 100).rounded()))
    let fraction = hundredths % 100
    return "\(value < 0 ? "-" : "")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

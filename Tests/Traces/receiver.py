"""A test fixture for scripts/traces.sh: an OTLP/HTTP trace receiver and a stand-in model server.

POST /v1/traces takes OTLP protobuf (ExportTraceServiceRequest), decoded with PyPI's
opentelemetry-proto, and writes one JSON line per span to SPANS. POST /v1/chat/completions (not a real
model) writes the request's traceparent and tracestate headers to CALLS and answers a fixed chat completion, streamed
when asked, that names the model "upstream-model-v2"; GET /v1/models answers its health checks.

usage: receiver.py PORT SPANS CALLS
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PORT, SPANS, CALLS = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        # The gateway's health check of the stand-in model server.
        if self.path == "/v1/models":
            return self.answer(200, json.dumps({"object": "list", "data": [{"id": "upstream-model-v2"}]}).encode())
        self.answer(404, b"{}")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/v1/traces":
            if self.headers.get("content-type") != "application/x-protobuf":
                return self.answer(415, b"{}")
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with open(SPANS, "a") as out:
                for resource_spans in request.resource_spans:
                    resource = {kv.key: value(kv.value) for kv in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            out.write(json.dumps({
                                "resource": resource,
                                "scope": scope_spans.scope.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": span.kind,
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                                "flags": span.flags,
                                "attributes": {kv.key: value(kv.value) for kv in span.attributes},
                                "status": {"code": span.status.code, "message": span.status.message},
                            }) + "\n")
            return self.answer(200, b"", "application/x-protobuf")
        if self.path == "/v1/chat/completions":
            request = json.loads(body)
            with open(CALLS, "a") as out:
                out.write(json.dumps({
                    "traceparent": self.headers.get("traceparent"),
                    "tracestate": self.headers.get("tracestate"),
                }) + "\n")
            usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
            if request.get("stream"):
                events = [
                    {"model": "upstream-model-v2", "choices": [{"index": 0, "delta": {"content": "fixed answer"}}]},
                    {"model": "upstream-model-v2", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
                    {"model": "upstream-model-v2", "choices": [], "usage": usage},
                ]
                text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                return self.answer(200, text.encode(), "text/event-stream")
            answer = {
                "id": "chatcmpl-fixture", "object": "chat.completion", "created": 0, "model": "upstream-model-v2",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "fixed answer"},
                             "finish_reason": "stop"}],
                "usage": usage,
            }
            return self.answer(200, json.dumps(answer).encode())
        self.answer(404, b"{}")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()

"""A small OpenTelemetry collector for the --otlp tests: it accepts OTLP/HTTP trace exports
(protobuf, POST /v1/traces), decodes the real payload with opentelemetry-proto, and appends one
JSON line per span to the file it was given: name, ids, kind, times, status, attributes, events
and the resource's attributes. It answers as a collector does (ExportTraceServiceResponse).

    python otlp_receiver.py PORT OUT_FILE
"""

import http.server
import json
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


class Collector(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(415)
            self.end_headers()
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with open(sys.argv[2], "a") as out:
            for rs in request.resource_spans:
                resource = {a.key: value(a.value) for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        out.write(json.dumps({
                            "name": sp.name,
                            "traceId": sp.trace_id.hex(),
                            "spanId": sp.span_id.hex(),
                            "parentSpanId": sp.parent_span_id.hex(),
                            "kind": sp.kind,
                            "durationNs": sp.end_time_unix_nano - sp.start_time_unix_nano,
                            "status": {"code": sp.status.code, "message": sp.status.message},
                            "attributes": {a.key: value(a.value) for a in sp.attributes},
                            "events": [{"name": e.name, "attributes": {a.key: value(a.value) for a in e.attributes}} for e in sp.events],
                            "scope": ss.scope.name,
                            "resource": resource,
                        }) + "\n")
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Collector).serve_forever()

package server

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/peerlab/peerlab/lab"
)

// reportService is a small service a lab's control socket serves beside the
// API, for `peerlab status`: the lab's full report (session addresses,
// timeline, calico-node readiness) as `peerlab run` prints it, which the
// API's Lab message does not carry. Its messages are well-known wrapper
// types so that it needs no .proto of its own: the request is the lab name,
// the reply the report in JSON.
const reportService = "peerlab.cli.v1.ReportService"

// reportServer is what the report service calls.
type reportServer interface {
	report(ctx context.Context, name string) ([]byte, error)
}

// reportServiceDesc describes the report service to grpc.
var reportServiceDesc = grpc.ServiceDesc{
	ServiceName: reportService,
	HandlerType: (*reportServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "GetReport",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			data, err := srv.(reportServer).report(ctx, in.GetValue())
			if err != nil {
				return nil, err
			}
			return wrapperspb.Bytes(data), nil
		},
	}},
	Metadata: "peerlab/cli/v1/report",
}

// report is the lab's report as `peerlab status` shows it.
func (h *Host) report(ctx context.Context, name string) ([]byte, error) {
	if err := h.checkLab(name); err != nil {
		return nil, err
	}
	verdicts, _ := h.verdicts()
	data, err := json.Marshal(h.lab.Report(ctx, verdicts))
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return data, nil
}

// GetReport asks the lab host behind cc (a lab's control socket) for the
// lab's report: what `peerlab status` prints.
func GetReport(ctx context.Context, cc grpc.ClientConnInterface, name string) (lab.Report, error) {
	out := new(wrapperspb.BytesValue)
	if err := cc.Invoke(ctx, "/"+reportService+"/GetReport", wrapperspb.String(name), out); err != nil {
		return lab.Report{}, err
	}
	var r lab.Report
	if err := json.Unmarshal(out.GetValue(), &r); err != nil {
		return lab.Report{}, fmt.Errorf("decode report of lab %s: %w", name, err)
	}
	return r, nil
}

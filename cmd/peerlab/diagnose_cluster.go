package main

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/diagnose/kubegather"
)

// addClusterFlags adds the flags of cluster mode (--kubeconfig).
func addClusterFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("kubeconfig", "", "cluster mode: diagnose the whole cluster of this kubeconfig through its API server, read-only")
	f.String("context", "", "cluster mode: kubeconfig context (default its current context)")
	f.Int("parallel", kubegather.DefaultParallel, "cluster mode: API calls made at once")
	f.Duration("call-timeout", kubegather.DefaultCallTimeout, "cluster mode: time limit of one API call (list, log, exec)")
	f.Duration("timeout", kubegather.DefaultTotal, "cluster mode: time limit of the whole gathering")
	f.Int64("tail", kubegather.DefaultTail, "cluster mode: lines of each calico-node log read")
}

// diagnoseCluster runs cluster mode: it gathers through the kubeconfig's
// API server and diagnoses what it read.
func (a *app) diagnoseCluster(cmd *cobra.Command) (diagnose.Report, error) {
	fl := cmd.Flags()
	str := func(name string) string { v, _ := fl.GetString(name); return v }
	parallel, _ := fl.GetInt("parallel")
	callTimeout, _ := fl.GetDuration("call-timeout")
	total, _ := fl.GetDuration("timeout")
	tail, _ := fl.GetInt64("tail")
	opts := kubegather.Options{
		Kubeconfig: str("kubeconfig"), Context: str("context"),
		Parallel: parallel, CallTimeout: callTimeout, Total: total, Tail: tail,
		Log: a.log,
	}
	// client-go logs through klog, on stderr by default: a call cut by
	// --call-timeout logs "Copying stdout failed". Its lines go to
	// peerlab's log with --log-level debug, nowhere otherwise.
	klogger := logr.Discard()
	if a.log.Core().Enabled(zap.DebugLevel) {
		klogger = zapr.NewLogger(a.log.Named("client-go"))
	}
	klog.SetLogger(klogger)
	rep, res, err := kubegather.Diagnose(cmd.Context(), opts)
	switch {
	case errors.Is(err, context.Canceled):
		return rep, &exitError{code: exitFailed, msg: "peerlab diagnose: interrupted"}
	case errors.Is(err, kubegather.ErrKubeconfig):
		return rep, usageErrorf("peerlab diagnose: %v", err)
	case err != nil:
		return rep, &exitError{code: exitFailed, msg: "peerlab diagnose: " + err.Error()}
	}
	if dir := str("save-artifacts"); dir != "" {
		if err := diagnose.SaveArtifacts(dir, res.Artifacts); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

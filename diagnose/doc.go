// Package diagnose explains why BGP sessions between Calico nodes are not
// Established: why calico-node reports "BIRD is not ready: BGP not
// established with 10.0.0.2,10.0.0.3".
//
// It reads evidence (today: artifact files a person collected from the
// nodes; later: a running lab or the host itself), recognises each file by
// its content with a Registry of Recognizers, gathers what they say into
// Observations per node, and runs small reasoning rules over the cluster.
// The result is a Report: findings ranked most likely first, each naming a
// cause from the Catalogue, a confidence, the evidence lines it rests on and
// concrete remediation steps. When nothing fits, the report says so with a
// finding of cause "unknown" instead of guessing.
//
// Evidence sources plug in by producing Observations for a Cluster: the
// artifacts source is LoadArtifacts; lab and host sources can call
// Registry.Recognize on command output or fill Observations directly. A
// whole cluster read through its API server (diagnose --kubeconfig) is
// package diagnose/kubegather, which this package does not import.
package diagnose

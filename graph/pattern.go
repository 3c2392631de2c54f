package graph

import (
	"strconv"
	"strings"
	"time"
)

// The pod-name patterns of controllers, used when neither the snapshot nor
// the flow source names a pod's workload. A bare pod can have any name, so
// each pattern needs support before it is believed. Labels help only when
// present: Cilium leaves the controller labels (pod-template-hash,
// controller-revision-hash, pod-template-generation, the StatefulSet pod
// name and index) out of the identity labels that Hubble reports, so their
// absence says nothing.
//
//   - Deployment: "<deployment>-<pod-template-hash>-<suffix>". The
//     ReplicaSet is named "<deployment>-<hash>"; the hash is 1 to 10
//     characters and the suffix 5 characters of the alphabet the API server
//     draws generated names from (no vowels, no 0, 1 or 3). Believed when a
//     pod-template-hash label equals the hash; refused when it differs;
//     otherwise believed when the snapshot holds that Deployment or the hash
//     has 6 to 10 such characters (a uint32 hash has fewer than 6 digits
//     once in 40,000; a hand-chosen word rarely avoids every vowel).
//   - StatefulSet: "<statefulset>-<ordinal>". Believed on the
//     statefulset.kubernetes.io/pod-name label equal to the pod name or the
//     apps.kubernetes.io/pod-index label equal to the ordinal, or the
//     snapshot holding that StatefulSet. Otherwise it stays a pod: "web-1" is
//     as likely a hand-named pod.
//   - DaemonSet: "<daemonset>-<suffix>". Believed on the
//     pod-template-generation and controller-revision-hash labels together
//     (only DaemonSet pods carry both), or the snapshot holding it.
//     Otherwise it stays a pod: Job pods, ReplicaSets without a Deployment
//     and operators' generated names share the shape.
//   - Job: the job-name (or batch.kubernetes.io/job-name) label names the
//     Job (Cilium keeps job-name); "<job>-<suffix>" is also believed when
//     the snapshot holds the Job.
//   - CronJob: a Job named "<cronjob>-<minutes>", where minutes is the
//     scheduled time in minutes since the Unix epoch, 8 or more digits,
//     between 2015 and a day after the flow. Believed when the snapshot
//     holds that CronJob or the number is such a time: names ending in a
//     date (yyyymmdd, below 21000000) fall before 2015 and are left alone.

// The labels controllers put on their pods.
const (
	labelPodTemplateHash  = "pod-template-hash"
	labelStatefulSetPod   = "statefulset.kubernetes.io/pod-name"
	labelPodIndex         = "apps.kubernetes.io/pod-index"
	labelTemplateGen      = "pod-template-generation"
	labelControllerRevHsh = "controller-revision-hash"
	labelJobName          = "batch.kubernetes.io/job-name"
	labelJobNameLegacy    = "job-name"
)

// generatedAlphabet is the alphabet of generated name suffixes and
// pod-template hashes (k8s.io/apimachinery/pkg/util/rand).
const generatedAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// cronJobEpoch is the earliest scheduled time accepted in a CronJob's Job
// name: 2015-01-01, before CronJobs existed.
var cronJobEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

func generated(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(generatedAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// cutLast splits s at its last '-' into a non-empty prefix and suffix.
func cutLast(s string) (prefix, suffix string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// ordinal reports whether s is a StatefulSet ordinal: digits without a
// leading zero, or "0".
func ordinal(s string) bool {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// scheduledMinutes reports whether s reads as a CronJob's scheduled time in
// minutes since the epoch, no later than a day after now (or than the
// present era when now is zero).
func scheduledMinutes(s string, now time.Time) bool {
	if len(s) < 8 || len(s) > 10 {
		return false
	}
	m, err := strconv.ParseInt(s, 10, 64)
	if err != nil || m < 0 {
		return false
	}
	t := time.Unix(m*60, 0)
	if now.IsZero() {
		now = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return !t.Before(cronJobEpoch) && !t.After(now.Add(24*time.Hour))
}

// fromPodName infers a pod's workload from its name and labels, as the
// package comment describes. labels is nil when the source gave none.
func (r *Resolver) fromPodName(ns, pod string, labels map[string]string, now time.Time) (Node, bool) {
	if job := labels[labelJobName]; job != "" {
		return r.jobOwner(ns, job, now), true
	}
	if job := labels[labelJobNameLegacy]; job != "" {
		return r.jobOwner(ns, job, now), true
	}
	rest, suffix, ok := cutLast(pod)
	if !ok {
		return Node{}, false
	}
	if n, ok := r.deploymentPattern(ns, rest, suffix, labels); ok {
		return n, true
	}
	if ordinal(suffix) && (labels[labelStatefulSetPod] == pod || labels[labelPodIndex] == suffix ||
		r.hasWorkload(KindStatefulSet, ns, rest)) {
		return WorkloadNode(KindStatefulSet, ns, rest), true
	}
	if !generated(suffix, 5, 5) {
		return Node{}, false
	}
	switch {
	case labels[labelTemplateGen] != "" && labels[labelControllerRevHsh] != "",
		r.hasWorkload(KindDaemonSet, ns, rest):
		return WorkloadNode(KindDaemonSet, ns, rest), true
	case r.hasWorkload(KindJob, ns, rest):
		return r.jobOwner(ns, rest, now), true
	case r.hasWorkload(KindReplicaSet, ns, rest):
		return r.climb(ns, ownerRef{string(KindReplicaSet), rest}, labels, now), true
	}
	return Node{}, false
}

// deploymentPattern matches "<deployment>-<hash>" (rest) + "-<suffix>".
func (r *Resolver) deploymentPattern(ns, rest, suffix string, labels map[string]string) (Node, bool) {
	if !generated(suffix, 5, 5) {
		return Node{}, false
	}
	deploy, hash, ok := cutLast(rest)
	if !ok || !generated(hash, 1, 10) {
		return Node{}, false
	}
	switch have := labels[labelPodTemplateHash]; {
	case have == hash,
		have == "" && (r.hasWorkload(KindDeployment, ns, deploy) || generated(hash, 6, 10)):
		return WorkloadNode(KindDeployment, ns, deploy), true
	}
	return Node{}, false
}

// replicaSetOwner infers the Deployment of a ReplicaSet that the snapshot
// does not hold: "<deployment>-<hash>", confirmed by the pod's
// pod-template-hash label or by the snapshot holding the Deployment.
func (r *Resolver) replicaSetOwner(ns, rs string, labels map[string]string) Node {
	if deploy, hash, ok := cutLast(rs); ok && generated(hash, 1, 10) &&
		(labels[labelPodTemplateHash] == hash || r.hasWorkload(KindDeployment, ns, deploy)) {
		return WorkloadNode(KindDeployment, ns, deploy)
	}
	return WorkloadNode(KindReplicaSet, ns, rs)
}

// jobOwner returns the CronJob of a Job when the snapshot says so or its
// name ends in a scheduled time, else the Job itself.
func (r *Resolver) jobOwner(ns, job string, now time.Time) Node {
	if w, ok := r.workloads[workloadKey{string(KindJob), ns, job}]; ok && w.owner.name != "" {
		return r.climb(ns, w.owner, nil, now)
	}
	if cron, minutes, ok := cutLast(job); ok && ordinal(minutes) &&
		(r.hasWorkload(KindCronJob, ns, cron) || scheduledMinutes(minutes, now)) {
		return WorkloadNode(KindCronJob, ns, cron)
	}
	return WorkloadNode(KindJob, ns, job)
}

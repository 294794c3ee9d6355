package server

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	eventNormal  = corev1.EventTypeNormal
	eventWarning = corev1.EventTypeWarning
)

// eventSink writes Kubernetes Events about the webhook (a policy reload that
// failed, and the one that fixed it) on the webhook's own Pod, so that
// `kubectl describe pod` and `kubectl get events` show them.
type eventSink struct {
	client kubernetes.Interface
	pod    corev1.ObjectReference
	log    logr.Logger
}

// newEventSink targets the Pod named by $POD_NAME in $POD_NAMESPACE (the
// downward API; $POD_UID too, else the Pod is read once for its uid). It
// returns nil, and logs why, when they are not set.
func newEventSink(ctx context.Context, cfg *rest.Config, log logr.Logger) *eventSink {
	name, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || ns == "" {
		log.Info("POD_NAME or POD_NAMESPACE is not set: policy reload errors are logged and counted, but not written as Kubernetes Events")
		return nil
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Error(err, "no Kubernetes Events for policy reloads")
		return nil
	}
	return newPodEventSink(ctx, client, ns, name, types.UID(os.Getenv("POD_UID")), log)
}

func newPodEventSink(ctx context.Context, client kubernetes.Interface, ns, name string, uid types.UID, log logr.Logger) *eventSink {
	if uid == "" {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			uid = p.UID
		} else {
			log.Info("reading the webhook's Pod for its uid failed; its Events carry none", "pod", ns+"/"+name, "error", err.Error())
		}
	}
	return &eventSink{client: client, log: log, pod: corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name, UID: uid}}
}

// maxEventMessage is the API server's limit on an Event's message.
const maxEventMessage = 1024

func (s *eventSink) emit(ctx context.Context, typ, reason, msg string) {
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage-3] + "..."
	}
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: s.pod.Name + ".", Namespace: s.pod.Namespace},
		InvolvedObject: s.pod,
		Type:           typ,
		Reason:         reason,
		Message:        msg,
		Source:         corev1.EventSource{Component: "meshguard-webhook"},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.client.CoreV1().Events(s.pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		s.log.Error(err, "writing a Kubernetes Event failed", "reason", reason, "pod", fmt.Sprintf("%s/%s", s.pod.Namespace, s.pod.Name))
	}
}

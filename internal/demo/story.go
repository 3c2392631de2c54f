package demo

import (
	"embed"
	"io/fs"
)

//go:embed story/cluster story/flows.jsonl
var storyFiles embed.FS

// StoryCluster returns the story's cluster: a web shop's manifests, before
// any NetworkPolicy, read like the files given with -f.
func StoryCluster() fs.FS {
	sub, err := fs.Sub(storyFiles, "story/cluster")
	if err != nil {
		// fs.Sub fails only on an invalid path, which this is not.
		return storyFiles
	}
	return sub
}

// StoryFlows returns an hour of the story shop's traffic as `hubble observe
// -o json` prints it.
func StoryFlows() []byte {
	data, err := storyFiles.ReadFile("story/flows.jsonl")
	if err != nil {
		// The file is embedded: reading it cannot fail.
		return nil
	}
	return data
}

// StoryFlowsName is the name of the flows file, as --export-story writes
// it.
const StoryFlowsName = "flows.jsonl"

// The two connections the story explains once the policies are generated:
// the web frontend calling the cart, which it did, and calling the
// payments API directly, which it never did.
const (
	StoryAllowedFrom  = "frontend/web-5d8f7c9b4-2xkqp"
	StoryAllowedTo    = "shop/cart-6c9f8d7b5-q4vns"
	StoryAllowedProbe = "TCP/8080"
	StoryDeniedFrom   = "frontend/web-5d8f7c9b4-2xkqp"
	StoryDeniedTo     = "payments/payments-api-6b7c9d4f8-8hj2k"
	StoryDeniedProbe  = "TCP/8443"
)

// Package examples holds the deployment examples (Envoy, Istio, Envoy
// Gateway, and the make run demo); its tests load each one into the real
// schema of its platform and run policy.Parse on its plugin configuration, so
// the examples cannot drift from either.
package examples

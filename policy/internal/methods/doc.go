// Package methods classifies HTTP methods as the Fetch standard does.
package methods

// Package origins parses Web origins and origin patterns and matches request
// origins against a compiled allow-list in time independent of its length.
package origins

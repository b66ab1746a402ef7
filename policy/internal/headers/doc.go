// Package headers names the CORS headers, validates header names and parses
// Access-Control-Request-Headers with bounded work.
package headers

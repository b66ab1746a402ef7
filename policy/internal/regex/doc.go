// Package regex compiles the RE2 subset used by origin and path patterns into a
// small automaton that matches in linear time, exactly as package regexp would.
package regex

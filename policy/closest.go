package policy

import "github.com/corsfilter/corsfilter/policy/internal/ascii"

// Closest returns the candidate nearest to s by edit distance, ASCII case
// ignored, when it is near enough to be a likely typo: within 2 edits, or 1
// for a word of 3 bytes or fewer; "" otherwise. It names the key a config
// meant ("alowed_methods") and the flag or command a corsctl user meant.
func Closest(s string, candidates []string) string {
	best, bestDist := "", 3
	if len(s) <= 3 {
		bestDist = 2
	}
	for _, c := range candidates {
		if d := editDistance(ascii.Lower(s), ascii.Lower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment): insertions, deletions, substitutions and transpositions of
// adjacent bytes. Words longer than 64 bytes are never close.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

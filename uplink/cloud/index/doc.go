// Package index is the reference cloud's 1:N search over vision/match
// templates.
package index

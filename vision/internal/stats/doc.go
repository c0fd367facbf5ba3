// Package stats holds the confidence bound the vision evaluations report
// beside their error rates: a rate measured as 0 of 150 attacks is not
// shown to be below 1 %, and the bound says how far it is shown.
package stats

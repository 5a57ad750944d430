// Package loadtest will hold the open-model load generator (constant and ramping arrival rates, HDR
// histograms per step, k6-style thresholds, HTML reports). It is empty until that capability is built
// (issue 9); the directory exists so that the layout of the architecture is complete.
package loadtest

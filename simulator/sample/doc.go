// Package sample builds sample documents that eFormidling messages carry: a valid Noark 5
// arkivmelding.xml and a small valid PDF. The test fixtures and the simulators (which inject messages of
// their own) share it; it imports nothing of ours.
package sample

"""The instructor's tools: release, collection, autograding, grades for the learning platform."""

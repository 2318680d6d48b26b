package aerostack

// For the external tests: strict result decoding and the user-data table.
func init() { strictResults = true }

// UserDataPaths is the Go copy of the surface's user-data table.
var UserDataPaths = userDataPaths

package aerostack

// For the external tests: strict result decoding and the user-data table.
func init() { strictResults = true }

// UserDataPaths is the surface's user-data table.
func UserDataPaths() map[string][]string { return resultTables().UserData }

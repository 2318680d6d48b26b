package aerostack

import (
	"bytes"
	"encoding/json"
)

// Where the user's own data is in what the engine hands out, per result type: a copy of
// bindings/common/src/user_data.rs (USER_DATA; TestUserDataPathsMatchTheSurface fails when they
// drift). Every other key is the SDK's and is a Go field of the result structs (results.go);
// the values at these paths are Record/any and come back exactly as stored.
// TestResultStructsFollowUserData checks the structs against this table.
var (
	userData    = []string{"custom_fields", "metadata"}
	sessionData = []string{"user.custom_fields", "user.metadata"}
	jobData     = []string{"data", "result"}
	noData      = []string{}
	allData     = []string{""}
)

var userDataPaths = map[string][]string{
	"db.query":                    {"results"},
	"db.query_one":                allData,
	"db.batch":                    {"results[].results"},
	"auth.signup":                 sessionData,
	"auth.signin":                 sessionData,
	"auth.register":               sessionData,
	"auth.login":                  sessionData,
	"auth.send_otp":               noData,
	"auth.verify_otp":             sessionData,
	"auth.verify_email":           noData,
	"auth.resend_verification":    noData,
	"auth.request_password_reset": noData,
	"auth.reset_password":         noData,
	"auth.refresh":                sessionData,
	"auth.logout":                 noData,
	"auth.me":                     userData,
	"auth.update_me":              userData,
	"auth.delete_avatar":          noData,
	"auth.verify_token":           userData,
	"cache.get":                   allData,
	"cache.set":                   noData,
	"cache.has":                   noData,
	"cache.delete":                noData,
	"cache.get_many":              allData,
	"cache.set_many":              noData,
	"cache.delete_many":           noData,
	"cache.list":                  noData,
	"cache.keys":                  noData,
	"cache.flush":                 noData,
	"cache.expire":                noData,
	"cache.increment":             noData,
	"cache.list_all":              noData,
	"queue.enqueue":               noData,
	"queue.send":                  noData,
	"queue.job":                   jobData,
	"queue.jobs":                  {"jobs[].data", "jobs[].result"},
	"queue.cancel":                noData,
	"queue.wait":                  jobData,
	"queue.jobs_all":              jobData,
	"storage.upload":              noData,
	"storage.get_url":             noData,
	"storage.list":                noData,
	"storage.delete":              noData,
	"storage.exists":              noData,
	"storage.metadata":            noData,
	"storage.copy":                noData,
	"storage.move":                noData,
	"storage.list_all":            noData,
	"ai.chat":                     noData,
	"ai.complete":                 noData,
	"ai.embed":                    noData,
	"ai.chat_stream":              noData,
	"ai.search.ingest":            noData,
	"ai.search.query":             {"[].metadata"},
	"ai.search.get":               {"metadata"},
	"ai.search.update":            noData,
	"ai.search.delete":            noData,
	"ai.search.delete_by_type":    noData,
	"ai.search.list_types":        noData,
	"ai.search.count":             noData,
	"ai.search.configure":         noData,
	"secrets.get":                 allData,
	"secrets.set":                 noData,
	"secrets.list":                noData,
	"services.invoke":             {"result"},
	"call":                        allData,
	"request":                     allData,
	"rest":                        allData,
	"realtime.history":            {"[].data"},
	"realtime.emit":               noData,
	"local.outbox":                noData,
	"local.workers":               noData,
	"local.wait_served":           noData,
	"realtime.event":              {"data", "old"},
	"realtime.presence_event":     {"data.state", "data.presences[].state", "data.joins[].state", "data.leaves[].state"},
	"realtime.publish":            noData,
	"realtime.presence":           {"[].state"},
	"worker.invocation":           {"data", "query", "headers"},
}

// strictResults makes the result decoding refuse keys the result structs do not know (outside
// the user's data, which is Record/any). Off for users, so a field a newer engine adds is
// ignored; the package's tests turn it on, so such a field fails them until the struct has it.
var strictResults = false

// decodeResult decodes an engine answer into out (strictly under the tests).
func decodeResult(data []byte, out any) error {
	if !strictResults {
		return jsonUnmarshal(data, out)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

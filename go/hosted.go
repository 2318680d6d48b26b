package aerostack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// hostedStep is a hosted call's next step: a request to send, or the operation's answer.
type hostedStep struct {
	Send *struct {
		ID      uint64      `json:"id"`
		Method  string      `json:"method"`
		URL     string      `json:"url"`
		Headers [][2]string `json:"headers"`
	} `json:"send"`
	Done json.RawMessage `json:"done"`
}

// hosted runs operation op with its HTTP requests sent by c.httpClient (Config.HTTPClient): the
// engine hands out each request it built and takes the response back; retries, timeouts and
// error mapping stay the engine's.
func (c *Client) hosted(ctx context.Context, op string, body []byte) ([]byte, error) {
	h, err := c.h.Hosted(op, body)
	if err != nil {
		return nil, fail(op, err)
	}
	defer h.Free()
	for {
		p, err := h.Next()
		if err != nil {
			return nil, fail(op, err)
		}
		d, err := wait(ctx, op, p, nil)
		if err != nil {
			return nil, err
		}
		var step hostedStep
		if err := json.Unmarshal(d.JSON, &step); err != nil {
			return nil, decodeError(op, err)
		}
		if step.Send == nil {
			return step.Done, nil
		}
		s := step.Send
		status, headers, answer, sendErr := c.send(ctx, s.Method, s.URL, s.Headers, d.Data)
		if sendErr != nil {
			err = h.Fail(s.ID, "the Config.HTTPClient request failed: "+sendErr.Error())
		} else {
			err = h.Respond(s.ID, status, headers, answer)
		}
		if err != nil {
			return nil, fail(op, err)
		}
	}
}

// send performs one request with the user's client: the status, the headers as JSON
// [[name, value], ...] and the whole body.
func (c *Client) send(ctx context.Context, method, url string, headers [][2]string, body []byte) (int, []byte, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for _, kv := range headers {
		req.Header.Add(kv[0], kv[1])
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	var pairs [][2]string
	for name, values := range resp.Header {
		for _, v := range values {
			pairs = append(pairs, [2]string{name, v})
		}
	}
	h, _ := json.Marshal(pairs)
	return resp.StatusCode, h, answer, nil
}

package aerostack

import (
	"context"
	"encoding/json"
	"iter"
)

var (
	jsonMarshal   = json.Marshal
	jsonUnmarshal = json.Unmarshal
)

// AI is completions and chat (through the platform's model gateway), embeddings and search.
type AI struct {
	c      *Client
	Search *AISearch
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is a chat completion's input.
type ChatRequest struct {
	Messages    []Message
	Model       string
	Temperature *float64
	MaxTokens   int
	TopP        *float64
}

func (r ChatRequest) args() args {
	a := args{}.s("model", r.Model).n("max_tokens", r.MaxTokens)
	if r.Messages != nil {
		a["messages"] = r.Messages
	}
	if r.Temperature != nil {
		a["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		a["top_p"] = *r.TopP
	}
	return a
}

// Chat is a chat completion: Text (also Usage, Model).
func (a *AI) Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	return call[*ChatResponse](ctx, a.c, "ai.chat", req.args())
}

// ChatChunk is one piece of a streamed chat.
type ChatChunk struct {
	Delta        string  `json:"delta"`
	FinishReason *string `json:"finish_reason"`
	Usage        *Usage  `json:"usage"`
	Model        *string `json:"model"`
}

// ChatStream is Chat streamed token by token:
//
//	for chunk, err := range client.AI.ChatStream(ctx, req) { fmt.Print(chunk.Delta) }
func (a *AI) ChatStream(ctx context.Context, req ChatRequest) iter.Seq2[ChatChunk, error] {
	return streamOf[ChatChunk](ctx, a.c, "ai.chat_stream", req.args())
}

// CompleteOptions are the optional arguments of Complete.
type CompleteOptions struct {
	Model       string
	MaxTokens   int
	Temperature *float64
	System      string
}

// Complete completes a prompt: Text (also Usage, Model).
func (a *AI) Complete(ctx context.Context, prompt string, opts *CompleteOptions) (*Completion, error) {
	ar := args{}.s("prompt", prompt)
	if opts != nil {
		ar.s("model", opts.Model).n("max_tokens", opts.MaxTokens).s("system", opts.System)
		if opts.Temperature != nil {
			ar["temperature"] = *opts.Temperature
		}
	}
	return call[*Completion](ctx, a.c, "ai.complete", ar)
}

// Embedding is a text's embedding vector.
type Embedding struct {
	Embedding []float64 `json:"embedding"`
	Model     *string   `json:"model"`
}

// Embed is the embedding of a text.
func (a *AI) Embed(ctx context.Context, text string) (*Embedding, error) {
	return call[*Embedding](ctx, a.c, "ai.embed", args{}.s("text", text))
}

// AISearch is semantic search over the project's documents.
type AISearch struct{ c *Client }

// Ingest indexes a document; its ID. id and metadata are optional.
func (s *AISearch) Ingest(ctx context.Context, content, docType, id string, metadata Record) (*IngestResult, error) {
	a := args{}.s("content", content).s("type", docType).s("id", id)
	if metadata != nil {
		a["metadata"] = metadata
	}
	return call[*IngestResult](ctx, s.c, "ai.search.ingest", a)
}

// SearchQuery are the optional arguments of Query.
type SearchQuery struct {
	TopK   int
	Types  []string
	Filter Record
}

// Query is the closest documents (ID, Content, Score, Type, Metadata).
func (s *AISearch) Query(ctx context.Context, text string, q *SearchQuery) ([]SearchResult, error) {
	a := args{}.s("text", text)
	if q != nil {
		a.n("top_k", q.TopK)
		if q.Types != nil {
			a["types"] = q.Types
		}
		if q.Filter != nil {
			a["filter"] = q.Filter
		}
	}
	return call[[]SearchResult](ctx, s.c, "ai.search.query", a)
}

// Get is one document, or nil.
func (s *AISearch) Get(ctx context.Context, id string) (*SearchResult, error) {
	return call[*SearchResult](ctx, s.c, "ai.search.get", args{}.s("id", id))
}

// Update replaces a document's content (and type/metadata when given); whether it existed.
func (s *AISearch) Update(ctx context.Context, id, content, docType string, metadata Record) (bool, error) {
	a := args{}.s("id", id).s("content", content).s("type", docType)
	if metadata != nil {
		a["metadata"] = metadata
	}
	return call[bool](ctx, s.c, "ai.search.update", a)
}

// Delete deletes a document.
func (s *AISearch) Delete(ctx context.Context, id string) (bool, error) {
	return call[bool](ctx, s.c, "ai.search.delete", args{}.s("id", id))
}

// DeleteByType deletes every document of a type.
func (s *AISearch) DeleteByType(ctx context.Context, docType string) (bool, error) {
	return call[bool](ctx, s.c, "ai.search.delete_by_type", args{}.s("type", docType))
}

// ListTypes is every document type with its count.
func (s *AISearch) ListTypes(ctx context.Context) ([]TypeCount, error) {
	return call[[]TypeCount](ctx, s.c, "ai.search.list_types", args{})
}

// Count is the number of documents (of a type when given).
func (s *AISearch) Count(ctx context.Context, docType string) (int64, error) {
	return call[int64](ctx, s.c, "ai.search.count", args{}.s("type", docType))
}

// Configure chooses the embedding model (english or multilingual).
func (s *AISearch) Configure(ctx context.Context, embeddingModel string) (bool, error) {
	return call[bool](ctx, s.c, "ai.search.configure", args{}.s("embedding_model", embeddingModel))
}

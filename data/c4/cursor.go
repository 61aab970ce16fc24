package c4

// Cursor is a position in a [Stream]: the next token a batch will take. A training
// program saves Stream.Position with its checkpoint and hands it to Stream.Seek on
// resume; the stream then yields exactly the batches it would have yielded. Its fields
// are plain numbers so it can be stored as JSON.
//
// A stream reads each shard in windows of Config.Shuffle documents and hands out each
// window's documents in a seeded random order, so a position is a window (shard and
// line) and how far into it the stream has got.
type Cursor struct {
	// Epoch counts completed passes over the shards.
	Epoch int `json:"epoch"`
	// Shard indexes this epoch's shard order (the shards shuffled with the seed and the
	// epoch, or in their given order when Shuffle is 1). It equals the number of shards
	// when a stream without Repeat has ended.
	Shard int `json:"shard"`
	// File is the base name of that shard, checked by Seek so a checkpoint is not resumed
	// on other data; "" when the stream has ended.
	File string `json:"file"`
	// Line is the number of the shard's lines before the current window.
	Line int `json:"line"`
	// Skip is the number of the window's documents already handed out.
	Skip int `json:"skip"`
	// Token is the number of the next document's tokens already in batches: only packed
	// streams split a document between rows.
	Token int `json:"token"`
}

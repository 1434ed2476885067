"""The char-LM: Embedding -> nn.LSTM (fused kernels) -> Linear, and its training loss."""
import tinygrad_seq.functional as F
from tinygrad_seq import nn


class CharLM(nn.Module):
    """Embedding -> LSTM -> Linear over characters; time-major: ids (T, B) -> logits (T, B, V)."""

    def __init__(self, vocab_size, embed_dim=32, hidden_size=256, num_layers=1, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        y, state = self.lstm(self.drop(self.embed(ids)), state)
        return self.head(self.drop(y)), state


def lm_loss(model, x, y, state):
    logits, state = model(x, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return loss, state

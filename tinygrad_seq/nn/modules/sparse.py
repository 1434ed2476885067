"""torch.nn.modules.sparse: Embedding and EmbeddingBag."""
from tinygrad_seq.nn import Embedding, EmbeddingBag  # noqa: F401

"""torch.nn.modules.transformer: the transformer modules."""
from tinygrad_seq.nn import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,  # noqa: F401
                             TransformerEncoderLayer)

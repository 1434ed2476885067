"""torch.nn.modules.loss: the loss modules, and their bases _Loss and _WeightedLoss."""
from tinygrad_seq.nn import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,  # noqa: F401
                             CTCLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                             MarginRankingLoss, MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss,
                             PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)
from tinygrad_seq.nn.loss import _Loss, _WeightedLoss  # noqa: F401

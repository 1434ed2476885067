"""torch.nn.modules.loss: the loss modules."""
from tinygrad_seq.nn import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,  # noqa: F401
                             CTCLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                             MarginRankingLoss, MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss,
                             PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)

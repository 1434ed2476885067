"""torch.utils.data._utils: the collate module programs import default_collate from."""

MP_STATUS_CHECK_INTERVAL = 5.0   # torch's constant (seconds); no worker process is watched here

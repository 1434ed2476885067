"""torch.utils.data._utils: the collate module programs import default_collate from."""

"""Pages of the segmentation app."""

"""The backward engine's error texts that PyTorch's own tests assert, word for word (the
first-order sweep in autograd.py, the create_graph one in higher_order.py, autograd_api.py)."""

BACKWARD_TWICE = ("Trying to backward through the graph a second time (or directly access saved tensors after "
                  "they have already been freed). Saved intermediate values of the graph are freed when you call "
                  ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                  "graph a second time or if you need to access saved tensors after calling backward.")


def saved_modified(ctx):
    """A value node ctx saved was written in place after ctx was made (torch's text; torch also
    names the tensor and its versions, which this engine's write clock does not keep)."""
    return (f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"a tensor saved by {ctx.name()} was written after it was saved. Hint: enable anomaly detection to "
            f"find the operation that failed to compute its gradient, with "
            f"torch.autograd.set_detect_anomaly(True).")


def grad_output_shape(k, grad_shape, output_shape):
    """A gradient given for output k (backward(gradient), autograd.grad's grad_outputs) of
    another shape than the output's."""
    return (f"Mismatch in shape: grad_output[{k}] has a shape of torch.Size({list(grad_shape)}) and "
            f"output[{k}] has a shape of torch.Size({list(output_shape)}).")

# an in-place write in grad mode to a view taken under no_grad of a tensor that requires grad
NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want "
                "the inplace to be tracked) or both outside (if you want the inplace to be tracked).")

from dataclasses import dataclass, replace


@dataclass
class Splits:
    """The one container of a dataset's uint8 NHWC images and int64 labels, what engine.train() reads, on the run's
    device (images too large for it may stay a host array, streamed: feed.py). test_* is what the net is evaluated
    on, whatever the dataset calls it (ImageNet's validation set)."""

    train_x: object  # torch.Tensor, or np.ndarray on the host
    train_y: object
    test_x: object
    test_y: object

    def subset(self, n_train, n_test):
        """The first n images of each split: class-balanced, since both datasets store their splits class-interleaved.
        Other fields (ImageFolder's mean image and PCA) stay those of the full set."""
        return replace(
            self,
            train_x=self.train_x[:n_train],
            train_y=self.train_y[:n_train],
            test_x=self.test_x[:n_test],
            test_y=self.test_y[:n_test],
            checksum=self.checksum + f":subset{n_train}/{n_test}",
        )

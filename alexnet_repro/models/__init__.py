# layer_table lives in .summary (not re-exported so `python -m alexnet_repro.models.summary` runs cleanly)
from .alexnet import AlexNet, AlexNetConfig, TwoDeviceAlexNet, build_alexnet, conv_plan
from .lrn import LocalResponseNorm, local_response_norm

"""Torchvision backbones, registered with their stages and classifier removed."""

from torch import nn
from torchvision import models

from ._registry import register_backbone


def _resnet(name):
    def build():
        body = getattr(models, name)(weights=None)
        n_features = body.fc.in_features
        body.fc = nn.Identity()
        stem = nn.ModuleList([body.conv1, body.bn1])
        return body, n_features, [stem, body.layer1, body.layer2, body.layer3, body.layer4]

    return build


def _features_then_linear(name, classifier_index):
    """mobilenet_v2, efficientnet_b0: ``features`` blocks, then ``classifier[i]`` Linear."""

    def build():
        body = getattr(models, name)(weights=None)
        n_features = body.classifier[classifier_index].in_features
        body.classifier = nn.Identity()
        return body, n_features, list(body.features)

    return build


def _vgg(name):
    def build():
        body = getattr(models, name)(weights=None)
        body.avgpool = nn.AdaptiveAvgPool2d(1)  # global pooling: 512 features at any size
        body.classifier = nn.Identity()
        blocks, current = [], []
        for layer in body.features:
            current.append(layer)
            if isinstance(layer, nn.MaxPool2d):
                blocks.append(nn.ModuleList(current))
                current = []
        return body, 512, blocks

    return build


def _convnext(name):
    def build():
        body = getattr(models, name)(weights=None)
        n_features = body.classifier[2].in_features
        body.classifier[2] = nn.Identity()
        return body, n_features, [*body.features, body.classifier]

    return build


for _name in ("resnet18", "resnet50"):
    register_backbone(_name, torchvision_name=_name)(_resnet(_name))
register_backbone("mobilenet_v2", torchvision_name="mobilenet_v2")(_features_then_linear("mobilenet_v2", 1))
register_backbone("efficientnet_b0", torchvision_name="efficientnet_b0")(_features_then_linear("efficientnet_b0", 1))
for _name in ("vgg16", "vgg19"):  # Grad-CAM on the last ReLU, before the last pooling
    register_backbone(_name, torchvision_name=_name, cam_layer=lambda body: body.features[-2])(_vgg(_name))
register_backbone("convnext_tiny", torchvision_name="convnext_tiny", cam_layer=lambda body: body.features[-1])(
    _convnext("convnext_tiny")
)

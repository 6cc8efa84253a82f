"""Faces in photos: detectors (MTCNN, the LBP cascade, a registry), aligned crops and a photo reader.

``detect_faces(image)`` returns every face as a :class:`Face` (box, score, five
landmarks), largest first; ``extract_face(image, face)`` cuts it out, rotated so the eyes
are level and framed like FER2013's faces; ``crop_face(image, face, image_shape)`` gives
the pixels a model sees for it (the image's centre square for ``face=None``), the one crop
every door of fersk uses; ``read_image(path)`` reads a photo upright.
:class:`fersk.FaceCropper` puts them together as a scikit-learn transformer.
"""

from ._align import FER2013_LANDMARKS, extract_face
from ._analyze import analyze_faces, face_inputs, split_face_cropper
from ._answers import classify_faces, prediction_answers
from ._crop import crop_face, model_input_shape, no_detection, photo_faces, whole_image
from ._detect import detect_faces, detect_faces_batch
from ._draw import draw_faces, emotion_colour, write_annotated
from ._face import LANDMARK_NAMES, Face
from ._image import ImageReadError, MissingImageError, read_image
from ._lbp import LBPDetector
from ._mtcnn import MTCNNDetector
from ._records import FaceRecord, FaceRecordBase, FaceRecords, FaceRecordsBase, plain_classes
from ._registry import FaceDetector, get_detector, list_detectors, register_detector

__all__ = [
    "FER2013_LANDMARKS",
    "Face",
    "FaceDetector",
    "FaceRecord",
    "FaceRecordBase",
    "FaceRecords",
    "FaceRecordsBase",
    "ImageReadError",
    "LANDMARK_NAMES",
    "LBPDetector",
    "MTCNNDetector",
    "MissingImageError",
    "analyze_faces",
    "crop_face",
    "detect_faces",
    "detect_faces_batch",
    "draw_faces",
    "emotion_colour",
    "extract_face",
    "face_inputs",
    "get_detector",
    "list_detectors",
    "model_input_shape",
    "no_detection",
    "photo_faces",
    "plain_classes",
    "classify_faces",
    "prediction_answers",
    "read_image",
    "register_detector",
    "split_face_cropper",
    "whole_image",
    "write_annotated",
]

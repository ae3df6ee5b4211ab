from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateway import handle, read_request, request_too_large


@csrf_exempt  # a machine-to-machine XML gateway, authenticated by sender and user credentials
@require_POST
def gateway(request):
    """The sandbox's XML gateway: same URL shape and protocol as Sage's xmlgw.phtml. A body
    over the size limit is refused with Sage's failure shape, unread."""
    body = read_request(request, request.META.get("CONTENT_LENGTH"))
    if body is None:
        answer = request_too_large()
    else:
        answer = handle(body, endpoint_url=request.build_absolute_uri(request.path))
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response

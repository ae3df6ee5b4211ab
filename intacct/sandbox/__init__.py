"""A fake Sage Intacct: its own companies, records and demo company, behind Sage's XML gateway.

The sandbox owns its models, the gateway (`handle`, the Django view, the standalone WSGI app),
the engine that answers each function, and the accountant's console (admin and services).
It imports nothing of accounting (it knows nothing of the TMS) and of the integration only
intacct.client (the wire format); the demo company comes from config/demo_company.json.
"""
